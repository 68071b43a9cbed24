"""Report: the HTML report over the published marts, and its asset."""
