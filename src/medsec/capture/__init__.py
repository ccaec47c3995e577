"""medsec capture stage."""
