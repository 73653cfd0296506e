"""TF.js graph models translated to ONNX with the `onnx` package (no TensorFlow).

graph.py reads the model JSON and weight shards; ops.py holds one translator
per TF op; convert.py assembles and caches the ONNX model; reference.py is
TF's semantics in numpy, the yardstick the tests and the benchmark use.
"""
