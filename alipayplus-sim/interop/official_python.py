"""Drives `cargo xtask sim --tls` with Ant International's official Python ACQP package.

Run by run.sh (which installs the package and starts the simulator). Every Alipay+ call goes
through the package's own client (`DefaultAlipayClient`), request and response models, and
signing functions (`signature_tool.sign` / `verify`); nothing of the package is patched, and
nothing stands between it and the simulator.

The package connects with `ssl._create_unverified_context()` (its net/default_http_rpc.py), so
it checks no certificate whatever we do. This driver's own HTTPS calls (the control API) use
Python's default verifying context, which trusts what the standard `SSL_CERT_FILE` names (the
CA the simulator printed, set by run.sh) and checks the host name, so the certificate the
package is served is shown to be valid for the host it dials.

Prints one line per check and ends with `interop: N passed, M failed`; exits 1 on a failure.
"""

import argparse
import http.server
import json
import ssl
import threading
import time
import urllib.request
import uuid

from alipayplusmcp.sdk.default_alipay_client import DefaultAlipayClient
from alipayplusmcp.sdk.exception.exception import AlipayApiException
from alipayplusmcp.sdk.model.address import Address
from alipayplusmcp.sdk.model.amount import Amount
from alipayplusmcp.sdk.model.buyer import Buyer
from alipayplusmcp.sdk.model.env import Env
from alipayplusmcp.sdk.model.merchant import Merchant
from alipayplusmcp.sdk.model.order import Order
from alipayplusmcp.sdk.model.payment_factor import PaymentFactor
from alipayplusmcp.sdk.model.payment_method import PaymentMethod
from alipayplusmcp.sdk.model.settlement_strategy import SettlementStrategy
from alipayplusmcp.sdk.request.pay.alipay_cancel_payment_request import AlipayCancelPaymentRequest
from alipayplusmcp.sdk.request.pay.alipay_inquiry_payment_request import AlipayInquiryPaymentRequest
from alipayplusmcp.sdk.request.pay.alipay_pay_request import AlipayPayRequest
from alipayplusmcp.sdk.request.pay.alipay_refund_request import AlipayRefundRequest
from alipayplusmcp.sdk.response.pay.alipay_cancel_payment_response import AlipayCancelPaymentResponse
from alipayplusmcp.sdk.response.pay.alipay_inquiry_payment_response import AlipayInquiryPaymentResponse
from alipayplusmcp.sdk.response.pay.alipay_pay_response import AlipayPayResponse
from alipayplusmcp.sdk.response.pay.alipay_refund_response import AlipayRefundResponse
from alipayplusmcp.sdk.response.result_status_type import ResultStatusType
from alipayplusmcp.sdk.tools import signature_tool
from alipayplusmcp.sdk.tools.date_tools import get_cur_iso8601_time

PASSED = []
FAILED = []


def check(name, ok, detail=""):
    (PASSED if ok else FAILED).append(name)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else "  " + str(detail)), flush=True)
    return ok


def outcome(response, err, attr="result"):
    """What a check shows when it fails: the error, or the result code and message."""
    if err is not None:
        return err
    result = getattr(response, attr, None) if response is not None else None
    if result is None:
        return "no %s" % attr
    return (result.result_status, result.result_code, result.result_message)


def signature_value(header):
    """The `signature=` part of a Signature header, as the package's client cuts it."""
    return header.split("signature=")[1] if header and "signature=" in header else None


class Listener(http.server.BaseHTTPRequestHandler):
    """The ACQP's notifyPayment endpoint: verify with the package, acknowledge signed by it."""

    client_id = None
    private_key = None
    alipay_public_key = None
    received = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8")
        client_id = self.headers.get("client-id")
        request_time = self.headers.get("request-time")
        signature = signature_value(self.headers.get("signature"))
        try:
            verified = bool(signature) and signature_tool.verify(
                "POST", self.path, client_id, request_time, body, signature,
                Listener.alipay_public_key)
        except Exception as e:  # the package raises on a bad signature
            verified = False
            body = body + " (" + str(e) + ")"
        with Listener.lock:
            Listener.received.append((self.path, verified, body))
        if not verified:
            self.send_response(401)
            self.end_headers()
            return
        answer = json.dumps({"result": {"resultCode": "SUCCESS", "resultStatus": "S",
                                        "resultMessage": "success"}})
        response_time = get_cur_iso8601_time()
        sign = signature_tool.sign("POST", self.path, client_id, response_time, answer,
                                   Listener.private_key)
        payload = answer.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("client-id", client_id)
        self.send_header("response-time", response_time)
        self.send_header("signature", "algorithm=RSA256,keyVersion=1,signature=" + sign)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def build_pay(payment_request_id, currency, value, notify_url):
    """A pay request built with the package's models as its own create_payment tool builds it
    (server.py), with the main.py defaults: CONNECT_WALLET, UNIFIED presentment, and the
    default settlementStrategy (no settlement currency configured: sent as `{}`)."""
    merchant = Merchant()
    merchant.merchant_display_name = "Alipayplus MCP"
    merchant.merchant_name = "Alipayplus MCP"
    merchant.merchant_mcc = "5411"
    merchant.reference_merchant_id = "M0000000001"
    address = Address()
    address.region = "CN"
    merchant.merchant_address = address

    buyer = Buyer()
    buyer.reference_buyer_id = str(uuid.uuid4())

    order = Order()
    order.merchant = merchant
    order.buyer = buyer
    order.reference_order_id = payment_request_id
    env = Env()
    env.terminal_type = "WAP"
    env.os_type = "IOS"
    order.env = env
    order.order_description = "interop test order"
    order.order_amount = Amount(currency, value)

    request = AlipayPayRequest()
    request.payment_request_id = payment_request_id
    request.payment_amount = Amount(currency, value)
    request.order = order
    factor = PaymentFactor()
    factor.is_in_store_payment = False
    factor.is_cashier_payment = True
    factor.presentment_mode = "UNIFIED"
    request.payment_factor = factor
    request.payment_redirect_url = "/"
    request.payment_notify_url = notify_url
    request.settlement_strategy = SettlementStrategy()
    method = PaymentMethod()
    method.payment_method_type = "CONNECT_WALLET"
    request.payment_method = method
    return request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", required=True, help="e.g. https://127.0.0.1")
    parser.add_argument("--control", required=True, help="the simulator's base URL")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--private-key", required=True, help="ACQP private key, PKCS#1 PEM")
    parser.add_argument("--alipay-public-key", required=True, help="simulator public key PEM")
    args = parser.parse_args()

    private_key = open(args.private_key).read()
    public_key = open(args.alipay_public_key).read()
    client = DefaultAlipayClient(gateway_url=args.gateway, client_id=args.client_id,
                                 merchant_private_key=private_key, alipay_public_key=public_key)

    # CERT_REQUIRED and host name checked; roots from SSL_CERT_FILE (the simulator's CA).
    verified_tls = ssl.create_default_context()

    def control(method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(args.control + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=verified_tls, timeout=10) as r:
            return json.loads(r.read().decode("utf-8"))

    def call(request, response_type):
        try:
            return response_type(client.execute(request)), None
        except AlipayApiException as e:
            return None, e

    Listener.client_id = args.client_id
    Listener.private_key = private_key
    Listener.alipay_public_key = public_key
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    notify_url = "http://127.0.0.1:%d/alipayplus/notify" % server.server_address[1]

    info = control("GET", "/sim")
    check("control API over HTTPS, certificate verified (SSL_CERT_FILE = the printed CA)",
          info.get("clientId") == args.client_id, info)

    run = uuid.uuid4().hex[:10]
    paid_id = "INTEROP-PAY-" + run
    pay, err = call(build_pay(paid_id, "USD", 1000, notify_url), AlipayPayResponse)
    check("pay (CONNECT_WALLET, default settlementStrategy): signed answer verified by the package",
          pay is not None, err)
    if pay is None:
        return finish(server)
    check("pay is in process with a checkout URL",
          pay.result.result_status == ResultStatusType.U
          and pay.result.result_code == "PAYMENT_IN_PROCESS" and bool(pay.normal_url),
          (outcome(pay, None), pay.normal_url))

    calls = control("GET", "/sim/calls")
    pay_call = [c for c in calls if c.get("api") == "pay" and c.get("paymentRequestId") == paid_id]
    tolerated = pay_call[-1].get("tolerated", []) if pay_call else []
    check("call log notes the uncertain rule the simulator tolerated",
          any("settlementStrategy.settlementCurrency" in t for t in tolerated), pay_call)

    inquiry_request = AlipayInquiryPaymentRequest()
    inquiry_request.payment_request_id = paid_id
    inquiry, err = call(inquiry_request, AlipayInquiryPaymentResponse)
    check("inquiryPayment before the shopper acts: PAYMENT_IN_PROCESS",
          inquiry is not None and inquiry.result.result_status == ResultStatusType.S
          and inquiry.payment_result is not None
          and inquiry.payment_result.result_code == "PAYMENT_IN_PROCESS",
          outcome(inquiry, err, "payment_result"))

    approved = control("POST", "/sim/shopper/approve", {"id": paid_id})
    check("shopper approves through the control API", approved.get("status") == "SUCCESS",
          approved)

    inquiry, err = call(inquiry_request, AlipayInquiryPaymentResponse)
    check("inquiryPayment after approval: SUCCESS with the amount",
          inquiry is not None and inquiry.payment_result is not None
          and inquiry.payment_result.result_code == "SUCCESS"
          and inquiry.payment_amount is not None and str(inquiry.payment_amount.value) == "1000",
          outcome(inquiry, err, "payment_result"))

    deadline = time.time() + 10
    while time.time() < deadline:
        with Listener.lock:
            got = list(Listener.received)
        if got:
            break
        time.sleep(0.05)
    check("notifyPayment received and verified with the package's verifier",
          len(got) >= 1 and got[0][1] and json.loads(got[0][2])["paymentRequestId"] == paid_id,
          got)
    acked = False
    while time.time() < deadline and not acked:
        notes = control("GET", "/sim/notifications")
        statuses = [n for n in notes.get("statuses", notes) if isinstance(n, dict)]
        acked = any(n.get("paymentRequestId") == paid_id and n.get("acknowledged") for n in statuses)
        if not acked:
            time.sleep(0.05)
    check("the simulator accepted the acknowledgement signed with the package's signer",
          acked, notes)

    refund = AlipayRefundRequest()
    refund.payment_request_id = paid_id
    refund.refund_request_id = "INTEROP-REFUND-" + run
    refund.refund_amount = Amount("USD", 400)
    refunded, err = call(refund, AlipayRefundResponse)
    check("partial refund (400 of 1000): SUCCESS",
          refunded is not None and refunded.result.result_status == ResultStatusType.S,
          outcome(refunded, err))

    cancel_id = "INTEROP-CANCEL-" + run
    second, err = call(build_pay(cancel_id, "USD", 500, notify_url), AlipayPayResponse)
    check("second pay: in process", second is not None
          and second.result.result_code == "PAYMENT_IN_PROCESS", outcome(second, err))
    cancel_request = AlipayCancelPaymentRequest()
    cancel_request.payment_request_id = cancel_id
    cancelled, err = call(cancel_request, AlipayCancelPaymentResponse)
    check("cancelPayment of the second payment: SUCCESS",
          cancelled is not None and cancelled.result.result_status == ResultStatusType.S,
          outcome(cancelled, err))
    inquiry_request = AlipayInquiryPaymentRequest()
    inquiry_request.payment_request_id = cancel_id
    inquiry, err = call(inquiry_request, AlipayInquiryPaymentResponse)
    check("inquiryPayment of the cancelled payment: not paid",
          inquiry is not None and inquiry.payment_result is not None
          and inquiry.payment_result.result_status == ResultStatusType.F,
          outcome(inquiry, err, "payment_result"))
    return finish(server)


def finish(server):
    server.shutdown()
    print("interop: %d passed, %d failed" % (len(PASSED), len(FAILED)), flush=True)
    return 1 if FAILED else 0


if __name__ == "__main__":
    try:
        code = main()
    except Exception as e:  # any crash of the driver is a failure, counted and summed up
        check("driver ran to the end", False, repr(e))
        print("interop: %d passed, %d failed" % (len(PASSED), len(FAILED)), flush=True)
        code = 1
    raise SystemExit(code)
