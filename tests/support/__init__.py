"""Test helpers: the real mock as a child process, scripted peers (raw TCP, HTTP, push receivers), raw SOAP."""
