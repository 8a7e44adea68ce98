"""The chat in the browser and the servers for programs; imported only by `qa chat` (gradio stays optional)."""
