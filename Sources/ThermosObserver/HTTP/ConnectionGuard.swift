import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Connection rules Hummingbird's HTTP/1 channel does not apply, enforced on NIO's HTTP/1 parts
/// (where the request version is still known):
/// - HTTP/1.0 (with or without `keep-alive`) and any `Connection: close` (any case, any token position)
///   end the connection after the response: the request reaches Hummingbird with exactly
///   `Connection: close`, which it honours;
/// - a request head must arrive within `headerTimeout` of the connection opening and within
///   `idleTimeout` of the previous response ending (slow or silent clients are closed).
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// The version of the request being answered (responses to HTTP/1.0 are sent as 1.0,
    /// unchunked, and the connection closes after them).
    private var requestVersion = HTTPVersion.http1_1
    /// Requests whose response has not ended (pipelined requests keep the idle timer off).
    private var inFlight = 0

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headerTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headerTimeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        if case .head(var head) = part {
            disarm()
            inFlight += 1
            requestVersion = head.version
            // HTTP/1.0 always ends with the response (even with keep-alive: a streamed body has
            // no length and no chunking in 1.0, so only the close can delimit it).
            if !head.isKeepAlive || head.version == .http1_0 {
                head.headers.replaceOrAdd(name: "connection", value: "close")
                part = .head(head)
            }
            context.fireChannelRead(wrapInboundOut(part))
            return
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where requestVersion == .http1_0:
            head.version = requestVersion
            head.headers.remove(name: "transfer-encoding")
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            inFlight = max(0, inFlight - 1)
            if inFlight == 0 { arm(context, idleTimeout) }
            context.write(data, promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        disarm()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}

/// Hummingbird's HTTP/1 child channel with a `ConnectionGuardHandler` placed between NIO's
/// HTTP/1 codec and the conversion to HTTP types.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel
    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount

    var responder: HTTPChannelHandler.Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let codec = try channel.pipeline.syncOperations.handler(type: HTTP1ToHTTPServerCodec.self)
            try channel.pipeline.syncOperations.addHandler(
                ConnectionGuardHandler(headerTimeout: headerTimeout, idleTimeout: idleTimeout), position: .before(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the observer's connection rules.
    static func guardedHTTP1(headerTimeout: TimeAmount, idleTimeout: TimeAmount) -> HTTPServerBuilder {
        .init { responder in
            GuardedHTTP1Channel(
                inner: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: idleTimeout)),
                headerTimeout: headerTimeout, idleTimeout: idleTimeout)
        }
    }
}
