<%@ WebService Class="Echo" %>
