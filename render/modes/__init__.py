"""Render modes: each turns a config and an engine into media (zoom, still, video dream, visualisation, loops)."""
