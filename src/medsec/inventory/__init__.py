"""medsec inventory stage."""
