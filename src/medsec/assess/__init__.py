"""The assess stage: vulnerability intelligence (feeds, matching) and risk."""
