"""The orders app: one stack, two regions (the default provider and the "west" alias)."""

from cdktf import App

from orders.stack import OrdersStack

app = App()
OrdersStack(app, "orders")
app.synth()
