"""Practicals: practical types and their prerequisite rules, sessions, bookings, check-in,
signed sign-offs and waivers (DESIGN.md, section 6)."""
