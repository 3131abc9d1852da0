"""Forward passes of the models: PyTorch, ONNX Runtime fp32 and int8, and the quality-gated `fast` path."""
