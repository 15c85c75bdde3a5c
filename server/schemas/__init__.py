"""Request and response types of the public API (docs/API.md). OpenAPI is generated from these."""
