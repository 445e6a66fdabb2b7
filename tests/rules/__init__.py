"""The pure rules: values in, values out (settings, validation, names, sniffing, messages, signing,
chunk values, multipart reading, rendering, the zone script build). No server, bucket or browser."""
