"""Request and response types of the public API (API.md). OpenAPI is generated from these."""
