"""The supervisors' and channel owners' web UI at `/admin/` (server-rendered, zh and en)."""
