"""The orders service: carts, orders and their state machine, fulfilment callbacks."""
