from . import main
from . import webhook
from . import qbwc
from . import reconciliation
