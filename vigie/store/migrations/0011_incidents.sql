-- Incidents imported for the crime map (vigie.crimemap.importer): police or
-- municipal records of places and times, never of people (no name, no person
-- column is kept). One import is one file, stored whole or not at all; removing
-- it removes its rows. Times are ISO 8601 UTC text ('...Z'); coordinates WGS 84,
-- converted at import when the file gave them in a projected CRS.
-- AUTOINCREMENT: an id is never given again, so "import 3" in the audit log is one file forever.
CREATE TABLE incident_imports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name    TEXT NOT NULL,
    sha256       TEXT NOT NULL UNIQUE,     -- of the file's bytes: the same file is never imported twice
    format       TEXT NOT NULL CHECK (format IN ('csv', 'geojson')),
    source       TEXT,                     -- the label given for the whole file (NULL: each row named its own)
    crs          TEXT NOT NULL,            -- the coordinates' CRS in the file ('EPSG:4326' for lat/lon)
    imported_at  TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    rows         INTEGER NOT NULL CHECK (rows > 0)
);

CREATE TABLE incidents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- "imported:<id>" on the map
    import_id    INTEGER NOT NULL REFERENCES incident_imports(id) ON DELETE CASCADE,
    ref          TEXT,                     -- the file's own id for the row, when it has one
    occurred_at  TEXT NOT NULL,
    category     TEXT NOT NULL CHECK (category <> ''),
    lat          REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon          REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    commune      TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL CHECK (source <> '')
);
CREATE INDEX incidents_by_time ON incidents(occurred_at);
CREATE INDEX incidents_by_category ON incidents(category, occurred_at);
CREATE INDEX incidents_by_import ON incidents(import_id);
