"""medsec simulate stage."""
