"""Framework code shared by the apps, knowing nothing of them: request parameters and bad input
(`params`), the request memo (`memo`), pagination (`pagination`), the fast serializer
(`representation`), the history manager (`history`) and the COPY writer (`bulk`).

`core` imports nothing from `partners` or `casework`; they build on it.
"""
