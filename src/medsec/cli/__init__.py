"""medsec cli stage."""
