"""Seed data: the real network, the demo of DEMO.md and the synthetic tiers of DESIGN.md §8.

- `network` — the real structure (data/network.yaml) and the demo network (data/demo.yaml);
- `demo` — the demo casework, driven through the workflows;
- `scale` — synthetic data at scale, loaded with PostgreSQL COPY.

The commands `seed_network`, `seed_demo` and `seed_scale` run them. Nothing in the apps imports
this package.
"""
