"""Privacy by construction: what must never be analysed, kept or shown.

- `masks`: static privacy masks from the site file, blacked out of every frame
  before anything is analysed or stored.
- `blur`: faces and licence plates found only to be blurred (never recognised,
  never read) in every image Vigie shows or exports.
"""
