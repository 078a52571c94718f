"""China Mobile OneNET NB-IoT (legacy api.heclouds.com): cached commands as FOTA."""
