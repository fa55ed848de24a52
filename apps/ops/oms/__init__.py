"""OMS order handling on the app store: intake from every channel, automatic review,
available-to-promise reservation that never oversells, warehouse routing and split
shipments, carrier tracking, returns that restock, and the available-to-sell feed."""
