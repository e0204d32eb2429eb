"""What the pages and commands show: entities, facts, claims, sources, search, timeline, map."""
