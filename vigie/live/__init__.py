"""Live analysis of the site's streams (`vigie run`, issue 6)."""
