"""Vigie: open forensic video analytics for a city's CCTV network.

Importing the package stays cheap: heavy backends (OpenCV DNN, onnxruntime,
torch, ray) are imported by the stage that needs them, when it is built.
"""

__version__ = "0.1.0"
