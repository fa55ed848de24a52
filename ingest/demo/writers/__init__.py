"""Writers that turn the demo company's records into each source's native files."""
