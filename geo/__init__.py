"""Pure spatial logic for Dialogkarta: coordinate systems, validation, joins and layer I/O."""
