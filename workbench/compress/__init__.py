"""Compression: quantization (F8, fake-quant, real int8/fp16), pruning (F9), distillation (F10)."""
from workbench.compress.distill import BertDistillConfig, distill_bert, distill_lm, distillation_loss
from workbench.compress.prune import PRUNE_KINDS, PruneInfo, apply_pruning
from workbench.compress.quantize import (QuantInfo, apply_quantization, dequantize_affine, dequantize_unit,
                                         fake_quantize_symmetric, int8_dynamic, quantize_affine, quantize_unit)

__all__ = ["BertDistillConfig", "distill_bert", "distill_lm", "distillation_loss", "PRUNE_KINDS", "PruneInfo",
           "apply_pruning", "QuantInfo", "apply_quantization", "dequantize_affine", "dequantize_unit",
           "fake_quantize_symmetric", "int8_dynamic", "quantize_affine", "quantize_unit"]
