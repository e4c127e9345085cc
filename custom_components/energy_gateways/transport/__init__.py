"""Transport helpers shared by the device clients.

Nothing here imports Home Assistant: the clients built on it are plain asyncio
libraries that could be published on their own.
"""
