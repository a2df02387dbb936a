"""E-commerce generators."""
