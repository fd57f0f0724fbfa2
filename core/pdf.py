"""Korean PDFs from HTML templates, with the fonts embedded and a watermark on every page.

WeasyPrint lays out the page; the KRDS typeface (Pretendard GOV, installed by `npm` with
`krds-uiux`) is embedded as a subset, with Noto Sans CJK (the system's) as the fallback for any
syllable the subset lacks. The watermark names who produced the file, for whom, when and why
(PIPA safeguards: every download states its reason); `templates/pdf/base.html` repeats it on
every page, in the margin and across the page.
"""

from django.conf import settings
from django.template.loader import render_to_string

FONT_FILES = {
    400: "PretendardGOV-Regular.subset.woff",
    500: "PretendardGOV-Medium.subset.woff",
    700: "PretendardGOV-Bold.subset.woff",
}


def font_faces() -> str:
    """The @font-face rules of the embedded typeface (file URLs: WeasyPrint reads them)."""
    folder = settings.NODE_MODULES / "krds-uiux" / "resources" / "fonts"
    return "\n".join(
        f'@font-face {{ font-family: "Pretendard GOV"; font-weight: {weight}; '
        f'src: url("{(folder / name).as_uri()}"); }}'
        for weight, name in FONT_FILES.items()
    )


def render_pdf(template: str, context: dict, *, watermark: str) -> bytes:
    """Render `template` (which extends pdf/base.html) to PDF bytes."""
    from weasyprint import HTML  # loads the layout engine only where a PDF is made

    html = render_to_string(
        template, {**context, "watermark": watermark, "font_faces": font_faces()}
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
