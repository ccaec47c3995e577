"""medsec service stage."""
