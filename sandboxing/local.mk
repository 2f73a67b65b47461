# sandboxing
