"""The compiled path of Relay: compile engine, graph executor codegen and runtime, build."""
