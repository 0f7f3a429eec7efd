"""Developer tools around the app: the request journal and fault injection."""
