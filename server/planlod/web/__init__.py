"""The Flask application: one blueprint per module, registered by `create_app`."""
