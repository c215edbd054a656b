"""The window's panels: case panel, details, jobs, messages, welcome, banners."""
