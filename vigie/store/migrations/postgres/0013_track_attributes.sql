-- What a person carries and wears, and a vehicle's type and colour (issue 18), from the
-- attribute networks (vigie.describe.attribute_nets), pooled over the track's clean crops.
--   people:   name bag | backpack | hat | long_sleeves | long_trousers | coat,
--             value yes | no | unknown, score the pooled network score (0-1);
--   vehicles: name vehicle_type (value car | bus | truck | van) or vehicle_colour (a
--             palette name), score the pooled probability of that value.
-- Never a body trait: the CHECK keeps any other name out, and the networks' sex and hair
-- outputs are not read at all. Rows go with their track (retention purges, holds keep).
CREATE TABLE track_attributes (
    track_id  BIGINT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    name      TEXT NOT NULL CHECK (name IN ('bag', 'backpack', 'hat', 'long_sleeves', 'long_trousers', 'coat',
                                            'vehicle_type', 'vehicle_colour')),
    value     TEXT NOT NULL,
    score     REAL,
    PRIMARY KEY (track_id, name)
);
