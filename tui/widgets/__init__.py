"""Reusable widgets. They never import screens or the App: attributes down, messages up."""
