"""Publish: the aggregate marts, small cells suppressed, copied to the published file, and its asset."""
