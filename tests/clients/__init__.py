"""Clients of the mock that share no code with this project: generated from the served WSDL, or the vendor's demos.

scenario.py is the calls they all make and the answers they must get; builds.py
generates and compiles the Mono and Axis clients (Driver.cs, AxisDriver.java);
javademo.py replays the vendor's Java demo; php_demo.php is its PHP demo.
"""
