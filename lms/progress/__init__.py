"""Progress: module status per learner, qualifications, their expiry and certificates."""
