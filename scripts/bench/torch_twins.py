#!/usr/bin/python3
"""PyTorch twins of the benchmark models (models/seq2seq/model.ts, models/transformer/model.ts and
models/dialogue/hred.ts in the configurations of scripts/bench/configs.ts): times Adam training steps on the CPU.
usage: /usr/bin/python3 torch_twins.py <lstm|lstm-feeding|transformer|transformer-big|hred|hred-tiny> [steps] [warmup] [threads] [cpu|cuda]
Prints one line: RESULT {json}."""
import json, math, resource, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

B, S, T, V = 64, 30, 30, 8000
BIG = dict(B=128, S=32, T=32, V=32000)  # transformer-big: d 512, 8 heads, ff 2048, 6+6 layers, 4,096 target tokens
K, L = 3, 20  # HRED: context turns per dialogue, tokens per turn


class LstmLuong(nn.Module):
    """Embeddings, LSTM encoder, tanh bridge to the decoder's (h, c), LSTM decoder without input feeding,
    Luong 'general' attention, h~ = tanh(Wc[h; ctx]), output layer: as Seq2SeqModel."""

    def __init__(s, E=256, H=256):
        super().__init__()
        s.src_emb, s.tgt_emb = nn.Embedding(V, E), nn.Embedding(V, E)
        s.enc, s.dec = nn.LSTM(E, H, batch_first=True), nn.LSTM(E, H, batch_first=True)
        s.bridge_h, s.bridge_c = nn.Linear(H, H), nn.Linear(H, H)
        s.Wa, s.Wc, s.out = nn.Linear(H, H, bias=False), nn.Linear(2 * H, H, bias=False), nn.Linear(H, V)

    def forward(s, src, tgt_in, tgt_out):
        memory, (h, c) = s.enc(s.src_emb(src))
        state = (torch.tanh(s.bridge_h(h)), torch.tanh(s.bridge_c(c)))
        dec, _ = s.dec(s.tgt_emb(tgt_in), state)
        weights = torch.softmax(dec @ s.Wa(memory).transpose(1, 2), -1)
        attentional = torch.tanh(s.Wc(torch.cat([dec, weights @ memory], -1)))
        return F.cross_entropy(s.out(attentional).reshape(-1, V), tgt_out.reshape(-1))


class LstmFeeding(nn.Module):
    """The workbench's seq2seq defaults (lstmFeedingConfig): bidirectional LSTM encoder (final states of both
    directions concatenated), tanh bridge, Luong 'general' attention over the 2H-wide memory, input feeding (the
    decoder cell reads [embedding; previous h~] and steps one position at a time, as OpenNMT's InputFeedRNNDecoder),
    dropout 0.2 on the embeddings and before the output layer: as Seq2SeqModel."""

    def __init__(s, E=256, H=256, drop=0.2):
        super().__init__()
        s.H = H
        s.src_emb, s.tgt_emb = nn.Embedding(V, E), nn.Embedding(V, E)
        s.enc, s.dec = nn.LSTM(E, H, batch_first=True, bidirectional=True), nn.LSTMCell(E + H, H)
        s.bridge_h, s.bridge_c = nn.Linear(2 * H, H), nn.Linear(2 * H, H)
        s.Wa, s.Wc, s.out = nn.Linear(2 * H, H, bias=False), nn.Linear(3 * H, H, bias=False), nn.Linear(H, V)
        s.drop = nn.Dropout(drop)

    def forward(s, src, tgt_in, tgt_out):
        memory, (h, c) = s.enc(s.drop(s.src_emb(src)))  # memory [B, S, 2H]; h, c [2, B, H]
        h, c = torch.tanh(s.bridge_h(torch.cat([h[0], h[1]], -1))), torch.tanh(s.bridge_c(torch.cat([c[0], c[1]], -1)))
        keys, embedded = s.Wa(memory), s.drop(s.tgt_emb(tgt_in))  # [B, S, H], [B, T, E]
        feed, attentional = embedded.new_zeros(embedded.shape[0], s.H), []
        for t in range(embedded.shape[1]):
            h, c = s.dec(torch.cat([embedded[:, t], feed], -1), (h, c))
            weights = torch.softmax(torch.bmm(keys, h.unsqueeze(2)).squeeze(2), -1)  # [B, S]
            feed = torch.tanh(s.Wc(torch.cat([h, torch.bmm(weights.unsqueeze(1), memory).squeeze(1)], -1)))
            attentional.append(feed)
        logits = s.out(s.drop(torch.stack(attentional, 1)))
        return F.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1))


class Transformer(nn.Module):
    """Post-LN encoder-decoder, 2+2 layers, d 256, 4 heads, ff 1024, dropout 0.1, sinusoidal positions,
    no final stack norms: as TransformerModel with norm 'post'."""

    def __init__(s, D=256, H=4, FF=1024, L=2, drop=0.1):
        super().__init__()
        s.D = D
        s.src_emb, s.tgt_emb = nn.Embedding(V, D), nn.Embedding(V, D)
        s.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, drop, batch_first=True), L, enable_nested_tensor=False)
        s.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, H, FF, drop, batch_first=True), L)
        s.out = nn.Linear(D, V)
        pe = torch.zeros(64, D)
        pos = torch.arange(64).unsqueeze(1)
        div = torch.exp(torch.arange(0, D, 2) * (-math.log(10000.0) / D))
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        s.register_buffer('pe', pe)
        s.register_buffer('causal', torch.triu(torch.full((T, T), float('-inf')), diagonal=1))
        s.drop = nn.Dropout(drop)

    def forward(s, src, tgt_in, tgt_out):
        e = s.drop(s.src_emb(src) * math.sqrt(s.D) + s.pe[: src.shape[1]])
        d = s.drop(s.tgt_emb(tgt_in) * math.sqrt(s.D) + s.pe[: tgt_in.shape[1]])
        h = s.decoder(d, s.encoder(e), tgt_mask=s.causal)
        return F.cross_entropy(s.out(h).reshape(-1, V), tgt_out.reshape(-1))


class Hred(nn.Module):
    """HRED as DialogueModel builds it (latent size 0): embeddings shared by encoder and decoder, a bidirectional GRU
    over each context turn (final states concatenated), a GRU cell over the K turn vectors, a tanh bridge from the
    context to the decoder's first state, a GRU decoder reading [embedding; context] at every step, dropout on the
    embeddings and the decoder outputs, the output layer. PyTorch's GRU applies the reset gate after the recurrent
    product, as ours does."""

    def __init__(s, E=256, H=256, C=256, D=256, drop=0.2):
        super().__init__()
        s.emb = nn.Embedding(V, E)
        s.utterance = nn.GRU(E, H, batch_first=True, bidirectional=True)
        s.context = nn.GRUCell(2 * H, C)
        s.bridge = nn.Linear(C, D)
        s.decoder = nn.GRU(E + C, D, batch_first=True)
        s.out = nn.Linear(D, V)
        s.drop = nn.Dropout(drop)
        s.C = C

    def forward(s, utterances, tgt_in, tgt_out):
        _, finals = s.utterance(s.drop(s.emb(utterances)))  # finals [2, B·K, H]
        vectors = torch.cat([finals[0], finals[1]], -1).reshape(B, K, -1)  # [B, K, 2H]
        c = vectors.new_zeros(B, s.C)
        for k in range(K):
            c = s.context(vectors[:, k], c)
        h0 = torch.tanh(s.bridge(c)).unsqueeze(0)  # [1, B, D]
        x = torch.cat([s.drop(s.emb(tgt_in)), c.unsqueeze(1).expand(-1, tgt_in.shape[1], -1)], -1)
        outputs, _ = s.decoder(x, h0)
        return F.cross_entropy(s.out(s.drop(outputs)).reshape(-1, V), tgt_out.reshape(-1))


def main():
    name = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    device = sys.argv[5] if len(sys.argv) > 5 else 'cpu'
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if name == 'transformer-big':
        globals().update(BIG)
    model = (Transformer(512, 8, 2048, 6) if name == 'transformer-big' else Transformer() if name == 'transformer' else Hred() if name == 'hred' else Hred(64, 64, 128, 128, 0.1) if name == 'hred-tiny' else LstmFeeding() if name == 'lstm-feeding' else LstmLuong()).to(device)
    src, tgt_in, tgt_out = (torch.randint(0, V, shape, device=device) for shape in ((B * K, L) if name.startswith('hred') else (B, S), (B, T), (B, T)))
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times, losses = [], []
    for i in range(warmup + steps):
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = model(src, tgt_in, tgt_out)
        loss.backward()
        optimizer.step()
        losses.append(round(loss.item(), 4))  # .item() synchronises, so CUDA steps are timed whole
        if i >= warmup:
            times.append((time.perf_counter() - started) * 1000)
    median = sorted(times)[len(times) // 2]
    print('RESULT ' + json.dumps(dict(
        model=name, backend=f'pytorch-{torch.__version__}-' + (device if device != 'cpu' else f'{threads}t'), params=sum(p.numel() for p in model.parameters()),
        steps=steps, msPerStepMedian=round(median, 1), msPerStep=[round(t, 1) for t in times],
        tokensPerSec=round(B * T * 1000 / median, 1), losses=losses,
        peakRssMiB=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))))


if __name__ == '__main__':
    main()
