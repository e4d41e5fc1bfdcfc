"""Chats: the Chats navigation, a chat's messages, sending text and images."""
