"""The ``.qwc`` file a QuickBooks user opens in the Web Connector to add this application.

The password is not in it (it is typed into the Web Connector); ``OwnerID`` and ``FileID``
are GUIDs in braces; ``AppURL`` must be https (except on localhost) — checked by the Web
Connector, not here.
"""
from lxml import etree

QB_TYPE = "QBFS"   # QuickBooks Financial Software (not Point of Sale)


def qwc(app_name, app_id, app_url, app_support, username, owner_id, file_id,
        run_every_minutes, description):
    """The ``.qwc`` XML text (every value XML-escaped)."""
    root = etree.Element("QBWCXML")
    for tag, value in (("AppName", app_name), ("AppID", app_id), ("AppURL", app_url),
                       ("AppDescription", description), ("AppSupport", app_support),
                       ("UserName", username), ("OwnerID", owner_id), ("FileID", file_id),
                       ("QBType", QB_TYPE)):
        etree.SubElement(root, tag).text = "" if value is None else str(value)
    scheduler = etree.SubElement(root, "Scheduler")
    minutes = max(1, int(run_every_minutes or 1))
    etree.SubElement(scheduler, "RunEveryNMinutes").text = str(minutes)
    etree.SubElement(root, "IsReadOnly").text = "false"
    return '<?xml version="1.0"?>\n' + etree.tostring(root, encoding="unicode",
                                                     pretty_print=True)
