"""Media Vigie shows or exports from the recordings themselves.

- `clips`: the video clip of one track, its box drawn, the camera's privacy
  masks burned in and (unless an authorised caller asks otherwise) faces and
  plates blurred; blurred clips are cached under $VIGIE_DATA/clips.
"""
