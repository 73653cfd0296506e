"""`python -m vigie.describe.export`: export the appearance network and its cut part network
to ONNX ahead of use (make setup runs it), so that no analysis waits for the export."""

from __future__ import annotations

import sys

from vigie.describe.embed import ensure_onnx
from vigie.describe.reid import ensure_part_onnx
from vigie.errors import ModelError


def main() -> int:
    try:
        print(ensure_onnx())
        print(ensure_part_onnx())
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
