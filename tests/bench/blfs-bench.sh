#!/bin/sh
echo "blfs bench: not written yet"
