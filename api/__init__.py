"""The HTTP API (`/api/v1/`), served by the same server as the pages (see app.py)."""
