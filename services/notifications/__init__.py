"""The notifications service: templates, transactional mail, delivery log; no contact addresses."""
