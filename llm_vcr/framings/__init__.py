"""How streamed answers are cut into chunks on the wire: one module per framing, each an
incremental parser fed raw network reads (split anywhere) and a serialiser for replay."""
